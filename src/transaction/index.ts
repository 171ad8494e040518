/** RFC 3261 §17 transaction machines and the layer that matches messages to them. */
export { TransactionLayer, type IncomingRequest, type ServerTransaction, type LayerConfig } from './layer.js';
export { ServerInviteTransaction, ServerNonInviteTransaction, ServerInviteState, ServerNonInviteState, type Send, type TransactionEnv } from './server.js';
export { ClientInviteTransaction, ClientNonInviteTransaction, ClientInviteState, ClientNonInviteState, type ClientUser } from './client.js';
