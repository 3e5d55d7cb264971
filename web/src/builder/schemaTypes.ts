// The shape of the flow schema the engine exports (Sources/Services/FlowEngine/NodeKindSchema.swift,
// written into schema.generated.ts by scripts/generate). Only the shape is declared here: the node
// kinds and their fields come from the engine.

/** How an editor presents one field (FieldKind in the engine). */
export type FieldKind =
  | "template"
  | "expression"
  | "text"
  | "channel"
  | "tool"
  | "node"
  | "nodes"
  | "number"
  | "bool"
  | "choice"
  | "choices"
  | "strings"
  | "templateObject"
  | "channelValues"
  | "json"
  | "list"
  | "object";

/** One field of a node kind. */
export interface FieldSchema {
  key: string;
  kind: FieldKind;
  required: boolean;
  help: string;
  choices?: string[];
  channelTypes?: string[];
  minimum?: number;
  maximum?: number;
  defaultJSON?: string;
  fields?: FieldSchema[];
}

/** One node kind. */
export interface NodeKindSchema {
  kind: string;
  summary: string;
  fields: FieldSchema[];
  choosesSuccessors: boolean;
  routeKeys: string[];
}

/** The whole schema. */
export interface FlowSchema {
  nodeKinds: NodeKindSchema[];
  commonFields: FieldSchema[];
  channelFields: FieldSchema[];
  builtinChannels: string[];
  errorKinds: string[];
  limits: Record<string, number>;
}
