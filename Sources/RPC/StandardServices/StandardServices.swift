public import ProtoCoding
public import RPCCore
public import RPCModels

/// Adds health checking and server reflection to a server's services.
public enum StandardServices {
    /// `services` plus `grpc.health.v1.Health` (every service SERVING) and server reflection
    /// (v1 and v1alpha) describing all of them from `files`.
    public static func adding(
        to services: [any RegistrableService], files: [ProtoFileDescriptor] = AgentplaneProtoFiles.all
    ) -> (services: [any RegistrableService], health: HealthService) {
        var names = Set(services.flatMap { $0.serverMethods.map(\.descriptor.service) })
        names.insert(Grpc_Health_V1_Health.serviceName)
        names.insert(Grpc_Reflection_V1_ServerReflection.serviceName)
        names.insert(Grpc_Reflection_V1alpha_ServerReflection.serviceName)
        let health = HealthService(services: Array(names))
        let reflection = ReflectionService(index: ReflectionIndex(services: Array(names), files: files))
        return (services + [health, reflection], health)
    }
}
