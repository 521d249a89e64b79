#!/usr/bin/env node
/**
 * The security suite: produces the reports `itsctl gate` judges (deploy/quality-gates.yml → security).
 *
 *   node scripts/security-scan.mjs [--out reports/security] [--image NAME]… [--dockerfile FILE]…
 *                                  [--dev-stages development,testing] [--skip npm-audit,eslint,secrets,dockerfile]
 *
 * Writes:
 *   <out>/npm-audit.json        `npm audit --json`, as npm printed it (its error document included: the
 *                               gate fails on it, it never passes silently)
 *   <out>/security-scan.sarif   one SARIF 2.1.0 log, one run per tool:
 *     eslint-security   eslint-plugin-security's rules over apps/, packages/ and scripts/
 *     secret-scan       regex rules (private keys, AWS keys, GitHub/npm tokens, Slack webhooks, high-entropy
 *                       assignments) over every file git tracks or would track
 *     image-secrets     the same rules over every file of every layer of each --image (docker save);
 *                       an image that is not built is a run that did not complete (a failed gate)
 *     dockerfile-rules  non-root USER in final stages, no `latest` (or missing) base tags, no secret-like
 *                       ENV/ARG names (*_KEY, *_SECRET, *PASSWORD*, *TOKEN*)
 * Severities are CVSS-style `security-severity` scores, so the gate's fail level (SECURITY_SCAN_FAIL_ON)
 * applies to them as to any scanner. Secrets are never printed: matches are redacted in the log.
 * Exit code: 0 when every tool ran (the verdict is the gate's), 2 on bad usage.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOCKER = process.env.DOCKER_CLI ?? '/usr/bin/docker';
const MAX_SCAN_BYTES = 1024 * 1024;

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const opts = {
    out: 'reports/security',
    images: [],
    dockerfiles: [],
    devStages: ['development', 'testing'],
    skip: new Set(),
  };
  const problems = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) problems.push(`${a}: needs a value`);
      return v ?? '';
    };
    if (a === '--out') opts.out = value();
    else if (a === '--image') opts.images.push(value());
    else if (a === '--dockerfile') opts.dockerfiles.push(value());
    else if (a === '--dev-stages') opts.devStages = value().split(',').filter(Boolean);
    else if (a === '--skip') for (const s of value().split(',')) opts.skip.add(s);
    else if (a === '--help' || a === '-h') opts.help = true;
    else problems.push(`${a}: unknown option (see --help)`);
  }
  for (const s of opts.skip)
    if (!['npm-audit', 'eslint', 'secrets', 'dockerfile'].includes(s))
      problems.push(`--skip: '${s}' is not one of npm-audit, eslint, secrets, dockerfile`);
  return { opts, problems };
}

// ---------------------------------------------------------------- SARIF helpers

function sarifRun(name, rules, results, failure) {
  return {
    tool: {
      driver: {
        name,
        informationUri: 'https://github.com/its-camera-ai/its-camera-ai/blob/main/docs/quality-gates.md',
        rules,
      },
    },
    invocations: [
      failure
        ? {
            executionSuccessful: false,
            toolExecutionNotifications: [{ level: 'error', message: { text: failure } }],
          }
        : { executionSuccessful: true },
    ],
    results,
  };
}

function result(ruleId, score, message, uri, line) {
  return {
    ruleId,
    level: score >= 7 ? 'error' : score >= 4 ? 'warning' : 'note',
    message: { text: message },
    locations: [
      { physicalLocation: { artifactLocation: { uri }, ...(line ? { region: { startLine: line } } : {}) } },
    ],
    properties: { 'security-severity': String(score) },
    partialFingerprints: {
      primaryLocationLineHash: createHash('sha256')
        .update(`${ruleId}:${uri}:${line ?? 0}:${message}`)
        .digest('hex')
        .slice(0, 16),
    },
  };
}

const rule = (id, text, score) => ({
  id,
  shortDescription: { text },
  defaultConfiguration: { level: score >= 7 ? 'error' : score >= 4 ? 'warning' : 'note' },
  properties: { 'security-severity': String(score), tags: ['security'] },
});

// ---------------------------------------------------------------- npm audit

async function npmAudit(outFile) {
  // npm exits 1 when it finds vulnerabilities and also when the advisory endpoint fails: keep stdout either way.
  const child = spawn('npm', ['audit', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks = [];
  let stderr = '';
  child.stdout.on('data', (c) => chunks.push(c));
  child.stderr.on('data', (c) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGTERM'), 120_000);
  const code = await new Promise((res) => child.on('close', res));
  clearTimeout(timer);
  const out = Buffer.concat(chunks);
  writeFileSync(
    outFile,
    out.length
      ? out
      : JSON.stringify({
          error: {
            code: `exit ${code}`,
            summary: 'npm audit printed nothing',
            detail: stderr.trim().split('\n').slice(-3).join(' '),
          },
        }),
  );
  return `npm audit: exit ${code}, ${out.length} bytes → ${relative(ROOT, outFile)}`;
}

// ---------------------------------------------------------------- ESLint security rules

/** Scores per rule: eval of an expression is a real hole; object injection is mostly noise in TypeScript. */
const ESLINT_SCORES = {
  'security/detect-eval-with-expression': 8.1,
  'security/detect-non-literal-require': 7.3,
  'security/detect-bidi-characters': 7.5,
  'security/detect-pseudoRandomBytes': 6.5,
  'security/detect-unsafe-regex': 5.3,
  'security/detect-buffer-noassert': 5.3,
  'security/detect-new-buffer': 5.3,
  'security/detect-child-process': 4.5,
  'security/detect-non-literal-regexp': 4.0,
  'security/detect-possible-timing-attacks': 4.0,
  'security/detect-invisible-characters': 4.0,
  'security/detect-no-csrf-before-method-override': 4.0,
  'security/detect-disable-mustache-escape': 4.0,
  'security/detect-non-literal-fs-filename': 2.0,
  'security/detect-object-injection': 2.0,
};

async function eslintSecurity() {
  const [{ ESLint }, { default: security }, tseslint] = await Promise.all([
    import('eslint'),
    import('eslint-plugin-security'),
    import('typescript-eslint'),
  ]);
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      { linterOptions: { reportUnusedDisableDirectives: 'off' } },
      {
        ignores: [
          '**/node_modules/**',
          '**/dist/**',
          '**/coverage/**',
          '**/*.test.ts',
          '**/fixtures/**',
          '**/*.fixture.ts',
        ],
      },
      { files: ['**/*.ts', '**/*.tsx'], languageOptions: { parser: tseslint.default.parser } },
      security.configs.recommended,
    ],
  });
  const reports = await eslint.lintFiles([
    'apps/*/src/**/*.{ts,tsx}',
    'packages/*/src/**/*.ts',
    'scripts/**/*.{mjs,js,ts}',
  ]);
  const results = [];
  for (const file of reports)
    for (const m of file.messages) {
      const id = m.ruleId ?? 'eslint/parse-error';
      results.push(
        result(
          id,
          ESLINT_SCORES[id] ?? (m.fatal ? 4.0 : 4.0),
          m.message,
          relative(ROOT, file.filePath),
          m.line,
        ),
      );
    }
  const rules = Object.entries(ESLINT_SCORES).map(([id, s]) => rule(id, id.replace('security/', ''), s));
  return {
    run: sarifRun('eslint-security', rules, results),
    note: `eslint-security: ${reports.length} files, ${results.length} findings`,
  };
}

// ---------------------------------------------------------------- secret rules

export const SECRET_RULES = [
  // The header alone appears in documentation; a key has a base64 body (after optional PEM headers).
  {
    id: 'secret/private-key',
    text: 'Private key',
    score: 9.5,
    re: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----(?:\r?\n|\\n)(?:[\w-]+: [^\n]*(?:\r?\n|\\n))*(?:\r?\n|\\n)?[A-Za-z0-9+/=]{40,}/g,
  },
  {
    id: 'secret/aws-access-key-id',
    text: 'AWS access key id',
    score: 9.0,
    re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  },
  {
    id: 'secret/aws-secret-access-key',
    text: 'AWS secret access key',
    score: 9.0,
    re: /aws.{0,20}?secret.{0,20}?['"=:\s]([0-9a-zA-Z/+]{40})(?![0-9a-zA-Z/+])/gi,
    group: 1,
  },
  {
    id: 'secret/github-token',
    text: 'GitHub token',
    score: 9.0,
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b/g,
  },
  { id: 'secret/npm-token', text: 'npm access token', score: 8.5, re: /\bnpm_[A-Za-z0-9]{36}\b/g },
  {
    id: 'secret/slack-webhook',
    text: 'Slack webhook URL',
    score: 7.5,
    re: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{20,}/g,
  },
  {
    id: 'secret/high-entropy-assignment',
    text: 'High-entropy value assigned to a secret-like name',
    score: 7.5,
    re: /\b[\w.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|private[_-]?key|access[_-]?key|auth[_-]?key)[\w.-]*["']?\s*[:=]\s*["']([A-Za-z0-9+/_\-=.~]{20,})["']/gi,
    group: 1,
    minEntropy: 4.0,
  },
];

/** Values that look like secrets but are placeholders, test values or references. */
const PLACEHOLDER =
  /(example|test|changeme|change-me|placeholder|dummy|your[-_]|xxxx|\$\{|<[^>]*>|redacted|\*\*\*)/i;

/** Files whose secrets are known test material: each entry says why. */
const ALLOWLIST = [
  { path: /(^|\/)(fixtures?|__fixtures__)\//, why: 'test fixtures are synthetic' },
  {
    path: /\.(test|int\.test|fixture)\.[cm]?[jt]s$/,
    why: 'tests build throwaway keys and tokens on purpose',
  },
  { path: /(^|\/)package-lock\.json$/, why: 'integrity hashes are high-entropy by design' },
  { path: /\.env(\.[\w-]+)?\.example$/, why: 'example environment files hold placeholders' },
];

export function shannonEntropy(s) {
  const counts = new Map();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
  return h;
}

const redact = (s) => (s.length <= 8 ? '***' : `${s.slice(0, 4)}…(${s.length} chars)`);

/** Findings in one text; `where` names it in the report. Pure. */
export function scanText(text, where) {
  const found = [];
  for (const r of SECRET_RULES) {
    r.re.lastIndex = 0;
    for (let m = r.re.exec(text); m; m = r.re.exec(text)) {
      const value = m[r.group ?? 0];
      if (PLACEHOLDER.test(value) || PLACEHOLDER.test(m[0])) continue;
      if (r.minEntropy && shannonEntropy(value) < r.minEntropy) continue;
      const line = text.slice(0, m.index).split('\n').length;
      found.push({ rule: r, where, line, message: `${r.text} (${redact(value)})` });
    }
  }
  return found;
}

function looksBinary(buf) {
  const n = Math.min(buf.length, 8000);
  for (let i = 0; i < n; i++) if (buf[i] === 0) return true;
  return false;
}

async function scanRepository() {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const files = stdout.split('\0').filter(Boolean);
  const results = [];
  let scanned = 0;
  let allowed = 0;
  for (const file of files) {
    if (ALLOWLIST.some((a) => a.path.test(file))) {
      allowed++;
      continue;
    }
    const abs = join(ROOT, file);
    let info;
    try {
      info = statSync(abs);
    } catch {
      continue; // deleted in the working tree
    }
    if (!info.isFile() || info.size > MAX_SCAN_BYTES) continue;
    const buf = readFileSync(abs);
    if (looksBinary(buf)) continue;
    scanned++;
    for (const f of scanText(buf.toString('utf8'), file))
      results.push(result(f.rule.id, f.rule.score, f.message, f.where, f.line));
  }
  const rules = SECRET_RULES.map((r) => rule(r.id, r.text, r.score));
  return {
    run: sarifRun('secret-scan', rules, results),
    note: `secret-scan: ${scanned} files scanned, ${allowed} allowlisted, ${results.length} findings`,
  };
}

// ---------------------------------------------------------------- image layers

/** Walks a tar held in `buf` (or a file through `read`), calling onEntry(name, type, size, offset). */
export function walkTar(read, total, onEntry) {
  let offset = 0;
  let longName;
  let paxPath;
  const header = Buffer.alloc(512);
  while (offset + 512 <= total) {
    read(header, offset);
    if (header.every((b) => b === 0)) break;
    const str = (start, len) =>
      header
        .subarray(start, start + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 48);
    const prefix =
      header.subarray(257, 263).toString() === 'ustar\0' || header.subarray(257, 262).toString() === 'ustar'
        ? str(345, 155)
        : '';
    let name = longName ?? paxPath ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    const dataOffset = offset + 512;
    if (type === 'L') {
      const b = Buffer.alloc(size);
      read(b, dataOffset);
      longName = b.toString('utf8').replace(/\0.*$/s, '');
    } else if (type === 'x') {
      const b = Buffer.alloc(size);
      read(b, dataOffset);
      const m = /\d+ path=([^\n]*)\n/.exec(b.toString('utf8'));
      paxPath = m ? m[1] : undefined;
    } else {
      longName = undefined;
      paxPath = undefined;
      onEntry(name.replace(/^\.\//, ''), type, size, dataOffset);
    }
    offset = dataOffset + Math.ceil(size / 512) * 512;
  }
}

async function imageExists(image) {
  try {
    await run(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', image]);
    return { ok: true };
  } catch (err) {
    const msg = `${err.stderr ?? err.message}`;
    if (/no such image|No such object/i.test(msg))
      return {
        ok: false,
        why: `image ${image} is not built (build it first, e.g. docker build --target production -t ${image} -f docker/Dockerfile .)`,
      };
    return { ok: false, why: `Docker Engine not reachable through ${DOCKER}: ${msg.trim().split('\n')[0]}` };
  }
}

async function scanImage(image) {
  const rules = SECRET_RULES.map((r) => rule(r.id, r.text, r.score));
  const exists = await imageExists(image);
  if (!exists.ok)
    return {
      run: sarifRun(`image-secrets ${image}`, rules, [], exists.why),
      note: `image-secrets ${image}: ${exists.why}`,
    };
  const dir = mkdtempSync(join(tmpdir(), 'its-image-scan-'));
  try {
    const tarFile = join(dir, 'image.tar');
    await run(DOCKER, ['save', '-o', tarFile, image], { maxBuffer: 1024 * 1024 });
    const { results, layers, files } = scanImageTar(tarFile, image);
    return {
      run: sarifRun(`image-secrets ${image}`, rules, results),
      note: `image-secrets ${image}: ${layers} layers, ${files} text files, ${results.length} findings`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Scans every file of every layer in a `docker save` archive (Docker's layout: <id>/layer.tar; OCI
 * layout: blobs/sha256/<digest>, gzip or plain), reading entries in place rather than extracting.
 */
export function scanImageTar(tarFile, image) {
  const fd = openSync(tarFile, 'r');
  const results = [];
  let files = 0;
  let layers = 0;
  try {
    const readAt = (base) => (buf, at) => readSync(fd, buf, 0, buf.length, base + at);
    const layerEntries = [];
    walkTar(readAt(0), statSync(tarFile).size, (name, type, size, offset) => {
      if ((type === '0' || type === '\0') && (name.endsWith('layer.tar') || name.startsWith('blobs/sha256/')))
        layerEntries.push({ name, size, offset });
    });
    for (const layer of layerEntries) {
      let read = readAt(layer.offset);
      let total = layer.size;
      const magic = Buffer.alloc(2);
      read(magic, 0);
      if (magic[0] === 0x1f && magic[1] === 0x8b) {
        // Compressed layers (OCI layouts) are unpacked in memory; `docker save` of 20.10 writes plain tars.
        const packed = Buffer.alloc(layer.size);
        read(packed, 0);
        const plain = gunzipSync(packed);
        read = (buf, at) => plain.copy(buf, 0, at, at + buf.length);
        total = plain.length;
      } else {
        // An OCI blob that is a JSON config or manifest is not a layer: a tar has "ustar" at 257.
        const probe = Buffer.alloc(6);
        read(probe, 257);
        if (!probe.toString().startsWith('ustar')) continue;
      }
      layers++;
      walkTar(read, total, (name, type, size, offset) => {
        if ((type !== '0' && type !== '\0') || size === 0 || size > MAX_SCAN_BYTES || name.includes('/.wh.'))
          return;
        // Third-party tests and documentation quote example keys; our own files are always scanned.
        if (
          /(^|\/)node_modules\/(.*\/)?((test|tests|fixtures?|docs?|man)\/|[^/]+\.(md|markdown|html?|txt|\d)$)/.test(
            name,
          )
        )
          return;
        if (/^usr\/share\/(doc|man|info)\//.test(name)) return;
        const buf = Buffer.alloc(size);
        read(buf, offset);
        if (looksBinary(buf)) return;
        files++;
        for (const f of scanText(buf.toString('utf8'), `${image}:/${name}`))
          results.push(
            result(
              f.rule.id,
              f.rule.score,
              `${f.message} in layer ${layer.name.slice(0, 24)}`,
              f.where,
              f.line,
            ),
          );
      });
    }
  } finally {
    closeSync(fd);
  }
  return { results, layers, files };
}

// ---------------------------------------------------------------- Dockerfile rules

const DOCKER_RULES = {
  root: rule('dockerfile/non-root-user', 'Final stages must run as a non-root USER', 7.5),
  rootDev: rule('dockerfile/non-root-user-dev', 'Development and test stages run as root (not shipped)', 3.0),
  latest: rule(
    'dockerfile/no-latest-tag',
    'Base images must be pinned to a tag other than latest (or a digest)',
    7.0,
  ),
  secretName: rule(
    'dockerfile/no-secret-env',
    'No secret-like names in ENV or ARG (secrets come from the environment at run time)',
    7.5,
  ),
};

/** Dockerfile text → findings. Pure. Handles line continuations, ARG defaults in FROM and stage inheritance. */
export function checkDockerfile(text, file, devStages = ['development', 'testing']) {
  const lines = text.split('\n');
  const instructions = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i];
    if (/^\s*#/.test(line) || line.trim() === '') continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length)
      line = `${line.replace(/\\\s*$/, ' ')}${lines[++i].replace(/^\s*#.*$/, '')}`;
    const m = /^\s*(\w+)\s+(.*)$/.exec(line);
    if (m) instructions.push({ op: m[1].toUpperCase(), args: m[2].trim(), line: start + 1 });
  }
  const globalArgs = new Map();
  const stages = [];
  const findings = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(ins.args);
      const image = (m?.[1] ?? '').replace(/\$\{?(\w+)\}?/g, (_, n) => globalArgs.get(n) ?? `$${n}`);
      stages.push({
        name: m?.[2] ?? `stage-${stages.length}`,
        base: image,
        user: undefined,
        line: ins.line,
        referenced: false,
      });
      continue;
    }
    if (ins.op === 'ARG' || ins.op === 'ENV') {
      // ENV a=1 b=2 | ENV a 1 | ARG a[=default]
      const names =
        ins.op === 'ENV' && !ins.args.includes('=')
          ? [ins.args.split(/\s+/)[0]]
          : [...ins.args.matchAll(/(?:^|\s)([A-Za-z_][\w]*)(?==|\s|$)/g)].map((x) => x[1]);
      for (const name of names)
        if (/(_KEY|_SECRET|SECRET_|PASSWORD|PASSWD|TOKEN)/i.test(name))
          findings.push({
            rule: DOCKER_RULES.secretName,
            line: ins.line,
            message: `${ins.op} ${name}: a secret-like name baked into the image; pass it at run time (environment or a secret mount)`,
          });
      if (ins.op === 'ARG' && stages.length === 0) {
        const m = /^(\w+)(?:=(.*))?$/.exec(ins.args);
        if (m) globalArgs.set(m[1], (m[2] ?? '').replace(/^["']|["']$/g, ''));
      }
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) continue;
    if (ins.op === 'USER') stage.user = ins.args.split(/\s+/)[0];
    if (ins.op === 'COPY') {
      const from = /--from=(\S+)/.exec(ins.args)?.[1];
      const ref = stages.find((s) => s.name === from);
      if (ref) ref.referenced = true;
    }
  }
  const byName = new Map(stages.map((s) => [s.name, s]));
  for (const s of stages) {
    const parent = byName.get(s.base);
    if (parent) parent.referenced = true;
    else if (s.base !== 'scratch') {
      const ref = s.base;
      const hasDigest = ref.includes('@sha256:');
      const tag = /:([^/:@]+)$/.exec(ref.split('@')[0])?.[1];
      if (!hasDigest && (tag === undefined || tag === 'latest'))
        findings.push({
          rule: DOCKER_RULES.latest,
          line: s.line,
          message: `stage ${s.name}: FROM ${ref} ${tag ? 'uses latest' : 'has no tag (means latest)'}; pin a version tag or a digest`,
        });
    }
  }
  const effectiveUser = (s, seen = new Set()) => {
    if (s.user !== undefined) return s.user;
    const parent = byName.get(s.base);
    return parent && !seen.has(parent) ? effectiveUser(parent, seen.add(s)) : undefined;
  };
  for (const s of stages.filter((x) => !x.referenced)) {
    const user = effectiveUser(s);
    if (user === undefined || /^(root|0)(:|$)/.test(user)) {
      const dev = devStages.includes(s.name);
      findings.push({
        rule: dev ? DOCKER_RULES.rootDev : DOCKER_RULES.root,
        line: s.line,
        message: `final stage ${s.name} runs as ${user ?? 'root (no USER)'}${dev ? ' (a development/test stage: listed, not shipped)' : '; add USER with a non-root user'}`,
      });
    }
  }
  return findings.map((f) => ({ ...f, file }));
}

async function dockerfileRules(files) {
  const results = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const f of checkDockerfile(text, file, parsed.opts.devStages))
      results.push(
        result(f.rule.id, Number(f.rule.properties['security-severity']), f.message, f.file, f.line),
      );
  }
  return {
    run: sarifRun('dockerfile-rules', Object.values(DOCKER_RULES), results),
    note: `dockerfile-rules: ${files.length} Dockerfiles, ${results.length} findings`,
  };
}

async function findDockerfiles() {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout
    .split('\0')
    .filter(
      (f) =>
        /(^|\/)(Dockerfile|[\w.-]+\.Dockerfile|Dockerfile\.[\w.-]+)$/.test(f) &&
        !f.includes('node_modules/') &&
        !f.includes('/fixtures/'),
    );
}

// ---------------------------------------------------------------- main

const parsed = parseArgs(process.argv.slice(2));

async function main() {
  const { opts, problems } = parsed;
  if (opts.help) {
    process.stdout.write(
      readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('*/')[0]
        .replace(/^#!.*\n\/\*\*/, '')
        .replace(/^ \* ?/gm, ''),
    );
    return 0;
  }
  if (problems.length) {
    process.stderr.write(`security-scan: ${problems.join('\nsecurity-scan: ')}\n`);
    return 2;
  }
  const out = resolve(ROOT, opts.out);
  mkdirSync(out, { recursive: true });
  const runs = [];
  const log = (s) => process.stderr.write(`security-scan: ${s}\n`);
  // Each tool is independent: one that throws becomes a run that did not complete, and the others still run.
  const guard = async (name, fn) => {
    try {
      const r = await fn();
      runs.push(r.run);
      log(r.note);
    } catch (err) {
      runs.push(sarifRun(name, [], [], `${name} failed: ${err.message.split('\n')[0]}`));
      log(`${name}: FAILED ${err.message.split('\n')[0]}`);
    }
  };
  const tasks = [];
  if (!opts.skip.has('npm-audit'))
    tasks.push(
      npmAudit(join(out, 'npm-audit.json')).then(log, (err) => log(`npm audit: FAILED ${err.message}`)),
    );
  if (!opts.skip.has('eslint')) await guard('eslint-security', eslintSecurity);
  if (!opts.skip.has('secrets')) {
    await guard('secret-scan', scanRepository);
    for (const image of opts.images) await guard(`image-secrets ${image}`, () => scanImage(image));
  }
  if (!opts.skip.has('dockerfile'))
    await guard('dockerfile-rules', async () =>
      dockerfileRules(opts.dockerfiles.length ? opts.dockerfiles : await findDockerfiles()),
    );
  await Promise.all(tasks);
  const sarif = { $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0', runs };
  writeFileSync(join(out, 'security-scan.sarif'), `${JSON.stringify(sarif, null, 1)}\n`);
  log(
    `wrote ${relative(ROOT, join(out, 'security-scan.sarif'))} (${runs.length} runs, ${runs.reduce((n, r) => n + r.results.length, 0)} findings); judge it with: npx itsctl gate`,
  );
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = await main();
