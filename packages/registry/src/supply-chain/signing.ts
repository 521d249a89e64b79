/**
 * Image signatures by digest, in cosign's layout: an ECDSA P-256 / SHA-256 signature over cosign's
 * "simple signing" payload, stored as a layer of the manifest tagged `sha256-<hex>.sig` with the
 * signature in the `dev.cosignproject.cosign/signature` annotation. The same manifest carries a
 * `subject`, so it is also an OCI referrer of the image and travels with it on promotion.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  createHash,
} from 'node:crypto';
import { ConfigError, StepFailedError } from '@its/core';
import { isDigest, signatureTag } from '../registry/digest.js';
import { OCI_CONFIG, OCI_MANIFEST } from '../registry/media-types.js';
import type { Descriptor, RegistryClient } from '../registry/registry-client.js';
import { DigestMismatchError } from '../registry/registry-errors.js';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** artifactType cosign uses for signatures stored as OCI 1.1 referrers. */
export const COSIGN_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

export interface SigningKeyPair {
  /** PKCS#8 PEM ("PRIVATE KEY"). cosign reads it after `cosign import-key-pair`. */
  privateKeyPem: string;
  /** SPKI PEM ("PUBLIC KEY"): exactly what `cosign verify --key` accepts. */
  publicKeyPem: string;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Short identifier of a public key (sha256 of its DER), to say which key signed without printing it. */
export function keyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

/** cosign's simple-signing payload, byte for byte as cosign writes it (Go's encoding/json field order). */
export function buildSimpleSigningPayload(
  dockerReference: string,
  digest: string,
  optional: Record<string, string> | null = null,
): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: SIMPLE_SIGNING_TYPE,
      },
      optional,
    }),
  );
}

export function signPayload(privateKeyPem: string, payload: Buffer): string {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new ConfigError('the signing key is not a PEM private key', {
      fix: 'generate one with `itsctl sign keygen --out <dir>`',
      cause: error,
    });
  }
  if (key.asymmetricKeyType !== 'ec')
    throw new ConfigError('the signing key is not an ECDSA key', {
      fix: 'use a P-256 key from `itsctl sign keygen`',
    });
  return sign('sha256', payload, key).toString('base64');
}

export interface SignResult {
  digest: string;
  signatureManifest: Descriptor;
  tag: string;
  identity: string;
}

/**
 * Signs the image `digest` in `repository`. `identity` is the docker-reference written in the payload
 * (default: the repository being signed, as cosign does).
 */
export async function signImage(
  client: RegistryClient,
  repository: string,
  digest: string,
  privateKeyPem: string,
  options: { identity?: string; annotations?: Record<string, string> } = {},
): Promise<SignResult> {
  if (!isDigest(digest)) throw new ConfigError(`--digest ${digest}: should be sha256:<64 hex>`);
  const subject = await client.getManifest(repository, digest);
  const identity = options.identity ?? `${client.registry}/${repository}`;
  const payload = buildSimpleSigningPayload(identity, digest, options.annotations ?? null);
  const signature = signPayload(privateKeyPem, payload);
  const payloadBlob = await client.uploadBlob(repository, payload, SIMPLE_SIGNING_MEDIA_TYPE);
  const layer: Descriptor = { ...payloadBlob, annotations: { [COSIGN_SIGNATURE_ANNOTATION]: signature } };

  // cosign appends to an existing .sig manifest rather than replacing other signers' signatures.
  const tag = signatureTag(digest);
  const layers: Descriptor[] = [];
  if (await client.headManifest(repository, tag)) {
    const existing = JSON.parse((await client.getManifest(repository, tag)).bytes.toString('utf8')) as {
      layers?: Descriptor[];
    };
    layers.push(
      ...(existing.layers ?? []).filter((l) => l.annotations?.[COSIGN_SIGNATURE_ANNOTATION] !== signature),
    );
  }
  layers.push(layer);
  const config = {
    architecture: '',
    created: '0001-01-01T00:00:00Z',
    history: [{ created: '0001-01-01T00:00:00Z' }],
    os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    config: {},
  };
  const configBlob = await client.uploadBlob(repository, Buffer.from(JSON.stringify(config)), OCI_CONFIG);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: COSIGN_SIGNATURE_ARTIFACT_TYPE,
    config: configBlob,
    layers,
    subject: { mediaType: subject.mediaType, digest, size: subject.bytes.length },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const signatureManifest = await client.putReferrer(repository, bytes, OCI_MANIFEST);
  await client.putManifest(repository, tag, bytes, OCI_MANIFEST);
  return { digest, signatureManifest, tag, identity };
}

export class SignatureVerificationError extends StepFailedError {
  constructor(
    readonly reference: string,
    readonly reasons: string[],
  ) {
    super(`signature verification of ${reference} failed: ${reasons.join('; ')}`, {
      fix: 'deploy only images signed by `itsctl sign` (or `itsctl publish --sign-key`) with a key whose public half you trust',
    });
  }
}

export interface VerifiedSignature {
  digest: string;
  identity: string;
  keyFingerprint: string;
}

/**
 * Verifies that the image at `reference` (tag or digest) carries a valid signature by one of
 * `publicKeyPems` over exactly its digest, with an identity naming one of `allowedRepositories`
 * (repository paths, without host; default: the image's own repository). Fails on: no signature,
 * bad signature (tampered payload, foreign key), payload for another digest (a signature copied
 * onto a retagged foreign image), foreign identity, and manifest bytes that do not hash to the
 * digest (a tampered manifest).
 */
export async function verifyImageSignature(
  client: RegistryClient,
  repository: string,
  reference: string,
  publicKeyPems: string[],
  options: { allowedRepositories?: string[] } = {},
): Promise<VerifiedSignature> {
  const where = `${client.registry}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
  if (publicKeyPems.length === 0)
    throw new SignatureVerificationError(where, ['no public key given to verify with']);
  let digest: string;
  try {
    // getManifest checks the bytes against the digest the registry announces (and a requested digest).
    digest = (await client.getManifest(repository, reference)).digest;
  } catch (error) {
    if (error instanceof DigestMismatchError) throw new SignatureVerificationError(where, [error.message]);
    throw error;
  }
  const allowed = options.allowedRepositories ?? [repository];
  const candidates = new Map<string, Descriptor>();
  const sig = await client.headManifest(repository, signatureTag(digest));
  if (sig) candidates.set(sig.digest, sig);
  for (const r of await client.listReferrers(repository, digest, COSIGN_SIGNATURE_ARTIFACT_TYPE))
    candidates.set(r.digest, r);
  if (candidates.size === 0)
    throw new SignatureVerificationError(where, [
      `${digest} is not signed (no ${signatureTag(digest)} and no signature referrer)`,
    ]);

  const reasons: string[] = [];
  const keys = publicKeyPems.map((pem) => ({ key: createPublicKey(pem), fingerprint: keyFingerprint(pem) }));
  for (const candidate of candidates.values()) {
    const manifest = JSON.parse(
      (await client.getManifest(repository, candidate.digest)).bytes.toString('utf8'),
    ) as { layers?: Descriptor[] };
    for (const layer of manifest.layers ?? []) {
      if (layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
      const signature = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
      if (!signature) {
        reasons.push(`signature layer ${layer.digest} has no ${COSIGN_SIGNATURE_ANNOTATION} annotation`);
        continue;
      }
      let payload: Buffer;
      try {
        payload = await client.getBlob(repository, layer.digest);
      } catch (error) {
        reasons.push(error instanceof Error ? error.message : String(error));
        continue;
      }
      const signer = keys.find((k) => verify('sha256', payload, k.key, Buffer.from(signature, 'base64')));
      if (!signer) {
        reasons.push(
          `signature ${layer.digest.slice(0, 19)}… was not made by a trusted key over this payload`,
        );
        continue;
      }
      let claims: {
        critical?: {
          identity?: { 'docker-reference'?: string };
          image?: { 'docker-manifest-digest'?: string };
          type?: string;
        };
      };
      try {
        claims = JSON.parse(payload.toString('utf8')) as typeof claims;
      } catch {
        reasons.push('signed payload is not JSON');
        continue;
      }
      const signedDigest = claims.critical?.image?.['docker-manifest-digest'];
      const identity = claims.critical?.identity?.['docker-reference'] ?? '';
      if (claims.critical?.type !== SIMPLE_SIGNING_TYPE) {
        reasons.push(
          `signed payload type is ${JSON.stringify(claims.critical?.type)}, not "${SIMPLE_SIGNING_TYPE}"`,
        );
        continue;
      }
      if (signedDigest !== digest) {
        reasons.push(
          `a trusted signature covers ${signedDigest}, not this image's ${digest} (a foreign image under our tag?)`,
        );
        continue;
      }
      const identityRepo = identity.includes('/')
        ? identity.slice(identity.indexOf('/') + 1).replace(/[:@].*$/, '')
        : identity;
      if (!allowed.includes(identityRepo)) {
        reasons.push(
          `signature identity ${identity} is not one of the allowed repositories (${allowed.join(', ')})`,
        );
        continue;
      }
      return { digest, identity, keyFingerprint: signer.fingerprint };
    }
  }
  throw new SignatureVerificationError(
    where,
    reasons.length ? reasons : ['no simple-signing layer found in the signature manifests'],
  );
}
