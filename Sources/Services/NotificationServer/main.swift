import Notification
import Runtime

await ServiceHost.main(NotificationService.definition)
