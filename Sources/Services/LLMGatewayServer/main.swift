// The LLM gateway's executable: chat and embeddings for every tenant, served by the runtime.
import LLMGateway
import Runtime

await ServiceHost.main(LLMGatewayService.definition)
