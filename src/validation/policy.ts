/**
 * Checking a policy spec ("linucb:alpha=1") before anything runs, for the daemon's config,
 * its --policy flag and the experiment specs: an unknown policy or parameter gets a
 * did-you-mean and the list of what is known.
 */
import { createPolicy, getFactory, parsePolicySpec, policyKinds } from '../../policies/registry.js';
import { didYouMean } from './messages.js';

function unknownKind(kind: string): string | undefined {
  const kinds = policyKinds().map((f) => f.kind);
  if (kinds.includes(kind)) return undefined;
  return `unknown policy '${kind}'; ${didYouMean(kind, kinds)}known policies: ${kinds.join(', ')}`;
}

/** The problem with a policy spec, or undefined when it builds. */
export function checkPolicySpec(spec: string): string | undefined {
  try {
    const { kind, params } = parsePolicySpec(spec);
    const badKind = unknownKind(kind);
    if (badKind) return badKind;
    const factory = getFactory(kind);
    const known = Object.keys(factory.defaults);
    for (const key of Object.keys(params)) {
      if (key in factory.defaults || key === 'inner' || key.startsWith('inner.')) continue;
      return `policy "${kind}" has no parameter "${key}"; ${didYouMean(key, known)}it takes ${known.length ? known.join(', ') : 'none'}`;
    }
    if (typeof params.inner === 'string') {
      const badInner = unknownKind(params.inner);
      if (badInner) return `policy "${kind}": inner=${params.inner}: ${badInner}`;
    }
    // Build once on a small shape so that bad values surface now.
    createPolicy(
      { kind, params },
      { k: 2, d: factory.contextual || kind === 'conservative' ? 2 : 0, seed: 1 },
    );
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
