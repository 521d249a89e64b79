import { describe, expect, it } from 'vitest';
import { ConfigError } from '@its/core';
import { parseStructureTestConfig } from './config.js';

describe('parseStructureTestConfig', () => {
  it('applies the original tool defaults', () => {
    const config = parseStructureTestConfig(
      `schemaVersion: 2.0.0
commandTests:
  - name: node
    command: node
fileExistenceTests:
  - name: f
    path: /x
`,
      'c.yaml',
    );
    expect(config.commandTests[0]).toMatchObject({ args: [], exitCode: 0, setup: [], expectedOutput: [] });
    expect(config.fileExistenceTests[0]).toMatchObject({ shouldExist: true });
    expect(config.fileExistenceTests[0]?.uid).toBeUndefined();
  });

  it('refuses a YAML alias bomb as a ConfigError naming the file, with the fix', () => {
    const bomb = [
      'schemaVersion: 2.0.0',
      'x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
      ...Array.from({ length: 8 }, (_, i) => `x${i + 1}: &x${i + 1} [${Array(9).fill(`*x${i}`).join(', ')}]`),
    ].join('\n');
    let caught: unknown;
    try {
      parseStructureTestConfig(bomb, 'bomb.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toBe(
      'bomb.yaml: its YAML aliases expand more than 100 times (an alias bomb?): write the values out instead of nesting aliases',
    );
    expect((caught as ConfigError).fix).toMatch(/aliases of aliases/);
  });

  it('accepts the schema version as a quoted string', () => {
    expect(parseStructureTestConfig(`schemaVersion: '2.0.0'\n`, 'c.yaml').commandTests).toEqual([]);
  });

  const bad: [string, string, RegExp][] = [
    ['wrong schema version', 'schemaVersion: 1.0.0\n', /schemaVersion: must be "2\.0\.0"/],
    ['missing name', 'schemaVersion: 2.0.0\ncommandTests:\n  - command: ls\n', /commandTests\.0\.name/],
    [
      'unknown field',
      'schemaVersion: 2.0.0\ncommandTests:\n  - name: a\n    command: ls\n    expectedOutputs: [x]\n',
      /commandTests\.0: Unrecognized key.*expectedOutputs/,
    ],
    [
      'bad executable scope',
      'schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: a\n    path: /x\n    isExecutableBy: everyone\n',
      /fileExistenceTests\.0\.isExecutableBy/,
    ],
    [
      'bad permissions form',
      'schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: a\n    path: /x\n    permissions: "0755"\n',
      /permissions: use the ls-style form/,
    ],
    [
      'empty setup step',
      'schemaVersion: 2.0.0\ncommandTests:\n  - name: a\n    command: ls\n    setup: [[]]\n',
      /commandTests\.0\.setup\.0: must hold at least the command/,
    ],
    ['not YAML', 'schemaVersion: [', /not valid YAML/],
  ];
  for (const [name, text, message] of bad) {
    it(`rejects ${name} with a field path`, () => {
      expect(() => parseStructureTestConfig(text, 'c.yaml')).toThrow(ConfigError);
      expect(() => parseStructureTestConfig(text, 'c.yaml')).toThrow(message);
    });
  }

  it('reports every problem at once', () => {
    try {
      parseStructureTestConfig(
        'schemaVersion: 2.0.0\ncommandTests:\n  - name: a\n  - command: b\nmetadataTest:\n  exposedPorts: [""]\n',
        'c.yaml',
      );
      expect.unreachable();
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/commandTests\.0\.command/);
      expect(message).toMatch(/commandTests\.1\.name/);
      expect(message).toMatch(/metadataTest\.exposedPorts\.0/);
    }
  });
});
