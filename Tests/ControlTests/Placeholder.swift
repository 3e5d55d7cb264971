// Placeholder until this suite has its first test.
