// Placeholder until the service's executable is written.
