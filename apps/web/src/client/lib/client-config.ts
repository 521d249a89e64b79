import { z } from 'zod';

/** What the dashboard server tells the browser at /config.json (see src/app.ts). */
export const ClientConfig = z.object({ apiBaseUrl: z.string().url(), version: z.string() });
export type ClientConfig = z.infer<typeof ClientConfig>;

export async function fetchClientConfig(): Promise<ClientConfig> {
  const res = await fetch('/config.json', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`/config.json answered ${res.status}`);
  const parsed = ClientConfig.safeParse(await res.json());
  if (!parsed.success)
    throw new Error(
      `/config.json: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}
