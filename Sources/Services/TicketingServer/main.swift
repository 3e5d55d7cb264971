// The ticketing service's executable: everything it does is in the Ticketing library.
import Runtime
import Ticketing

await ServiceHost.main(TicketingService.definition)
