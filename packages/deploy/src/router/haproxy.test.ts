import { describe, expect, it } from 'vitest';
import { renderHaproxyConfig, renderSlotMap } from './haproxy-config.js';
import { parseActiveSlot, parseShowStat } from './haproxy-runtime.js';

const COLUMNS =
  'pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,addr'.split(
    ',',
  );
const row = (values: Record<string, string>) => COLUMNS.map((c) => values[c] ?? '').join(',');
// The shape of HAProxy 2.6's `show stat`: a "# " header naming the columns, one row per proxy and server.
const STAT = [
  `# ${COLUMNS.join(',')}`,
  row({ pxname: 'health', svname: 'FRONTEND', status: 'OPEN' }),
  row({ pxname: 'blue', svname: 'b-d1-0', scur: '3', status: 'UP', weight: '100', addr: '172.18.0.3:8000' }),
  row({
    pxname: 'blue',
    svname: 'b-d1-1',
    scur: '0',
    status: 'MAINT',
    weight: '100',
    addr: '172.18.0.4:8000',
  }),
  row({
    pxname: 'blue',
    svname: 'b-d1-2',
    scur: '1',
    status: 'DRAIN',
    weight: '100',
    addr: '172.18.0.5:8000',
  }),
  row({ pxname: 'blue', svname: 'BACKEND', scur: '3', status: 'UP', weight: '200' }),
  row({
    pxname: 'green',
    svname: 'g-d2-0',
    scur: '0',
    status: 'DOWN',
    weight: '50',
    addr: '172.18.0.6:8000',
  }),
  '',
].join('\n');

describe('HAProxy runtime answers', () => {
  it('reads the servers of both slots with state, sessions, weight and address', () => {
    expect(parseShowStat(STAT)).toEqual([
      {
        slot: 'blue',
        server: 'b-d1-0',
        address: '172.18.0.3:8000',
        state: 'ready',
        status: 'UP',
        weight: 100,
        sessions: 3,
      },
      {
        slot: 'blue',
        server: 'b-d1-1',
        address: '172.18.0.4:8000',
        state: 'maint',
        status: 'MAINT',
        weight: 100,
        sessions: 0,
      },
      {
        slot: 'blue',
        server: 'b-d1-2',
        address: '172.18.0.5:8000',
        state: 'drain',
        status: 'DRAIN',
        weight: 100,
        sessions: 1,
      },
      {
        slot: 'green',
        server: 'g-d2-0',
        address: '172.18.0.6:8000',
        state: 'ready',
        status: 'DOWN',
        weight: 50,
        sessions: 0,
      },
    ]);
    expect(parseShowStat('')).toEqual([]);
  });

  it('reads the active slot from the map', () => {
    expect(parseActiveSlot('0x55d3c0 active green\n')).toBe('green');
    expect(parseActiveSlot('')).toBeUndefined();
  });
});

describe('router configuration', () => {
  it('routes by the slot map and persists servers by container name', () => {
    const cfg = renderHaproxyConfig([
      { slot: 'blue', server: 'b-d1-0', host: 'app-e-blue-d1-0', port: 8000, state: 'ready' },
      { slot: 'green', server: 'g-d2-0', host: 'app-e-green-d2-0', port: 8000, state: 'maint' },
    ]);
    expect(cfg).toContain('use_backend %[str(active),map(/var/run/its-router/slot.map,blue)]');
    expect(cfg).toContain('stats socket /var/run/its-router/admin.sock mode 660 level admin');
    expect(cfg).toMatch(
      /backend blue\n(.*\n){2} {4}server b-d1-0 app-e-blue-d1-0:8000 check .*resolvers docker init-addr last,libc,none\n/,
    );
    expect(cfg).toMatch(/server g-d2-0 app-e-green-d2-0:8000 .* disabled\n/);
    expect(cfg).toContain('retry-on conn-failure empty-response');
    expect(renderSlotMap('green')).toBe('active green\n');
  });
});
