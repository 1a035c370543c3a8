/**
 * Presence on a board (y-protocols awareness: each client's cursor, selection and name) as the server
 * relays it. A member cannot pretend to be someone else: the `user` field of every state they send is
 * replaced by who the server knows them to be, and client ids another connection already uses are dropped.
 *
 * Awareness update layout (y-protocols): varuint count, then per client: varuint clientId, varuint
 * clock, varstring JSON state ("null" when the client left).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

export interface BoardMember {
  id: string;
  name: string;
  role: string;
  /** Given by the server when the member joins: distinct from the colours of the members present. */
  colour?: string;
}

/** Eight colours far apart in hue, all readable with white text. */
export const MEMBER_COLOURS = ['#c0392b', '#1f6fb2', '#1e8449', '#8e44ad', '#d35400', '#117a8b', '#b7950b', '#6d4c41'];

/** The first colour none of the present members has (cycling when more than eight are present). */
export function memberColour(taken: Iterable<string>): string {
  const used = new Set(taken);
  return MEMBER_COLOURS.find((c) => !used.has(c)) ?? (MEMBER_COLOURS[used.size % MEMBER_COLOURS.length] as string);
}

export function rewriteAwareness(update: Uint8Array, member: BoardMember, taken: Set<number>): { update: Uint8Array; clientIds: number[] } {
  const decoder = decoding.createDecoder(update);
  const encoder = encoding.createEncoder();
  const count = decoding.readVarUint(decoder);
  const kept: { clientId: number; clock: number; state: string }[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const json = decoding.readVarString(decoder);
    if (taken.has(clientId)) continue;
    const state = JSON.parse(json) as unknown;
    const stamped =
      state !== null && typeof state === 'object' && !Array.isArray(state)
        ? { ...(state as Record<string, unknown>), user: { id: member.id, name: member.name, role: member.role, colour: member.colour ?? MEMBER_COLOURS[0] } }
        : null;
    kept.push({ clientId, clock, state: JSON.stringify(stamped) });
  }
  encoding.writeVarUint(encoder, kept.length);
  for (const k of kept) {
    encoding.writeVarUint(encoder, k.clientId);
    encoding.writeVarUint(encoder, k.clock);
    encoding.writeVarString(encoder, k.state);
  }
  return { update: encoding.toUint8Array(encoder), clientIds: kept.map((k) => k.clientId) };
}
