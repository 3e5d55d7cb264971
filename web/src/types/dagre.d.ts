// The part of Debian's node-dagre-layout (dagre 0.8) the flow builder uses; the package ships no types.
declare module "dagre" {
  interface GraphOptions {
    rankdir?: string;
    nodesep?: number;
    ranksep?: number;
    edgesep?: number;
    marginx?: number;
    marginy?: number;
  }
  interface NodeLabel {
    width: number;
    height: number;
    x: number;
    y: number;
  }
  class Graph {
    constructor(options?: { multigraph?: boolean; compound?: boolean; directed?: boolean });
    setGraph(label: GraphOptions): Graph;
    setDefaultEdgeLabel(label: () => object): Graph;
    setNode(name: string, label: { width: number; height: number }): Graph;
    setEdge(from: string, to: string, label?: object, name?: string): Graph;
    node(name: string): NodeLabel;
  }
  const dagre: {
    graphlib: { Graph: typeof Graph };
    layout(graph: Graph): void;
  };
  export default dagre;
}
