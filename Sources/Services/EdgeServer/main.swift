import Edge

// The edge: the platform's public HTTP door (docs/EDGE.md).
await EdgeHost.main()
