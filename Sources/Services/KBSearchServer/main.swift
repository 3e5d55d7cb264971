// The KB search service's executable.
import KBSearch
import Runtime

await ServiceHost.main(KBSearchService.definition)
