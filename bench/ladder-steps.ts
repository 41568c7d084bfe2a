/** The rungs of bench/ladder-server.ts, in order; each adds one layer of pullguard to the one before. */
export const LADDER_STEPS = ['same-answer', 'fastify', 'fastify+parser', 'fastify+decision', 'buildApp', 'buildApp+logger+metrics'] as const
export type LadderStep = typeof LADDER_STEPS[number]
