import OpenAI from 'openai';

const client = new OpenAI();

export async function ask(q: string) {
  const a = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: q }] });
  const b = await client.responses.create({ model: 'gpt-4o', input: q });
  const e = await client.embeddings.create({ model: 'text-embedding-3-small', input: q });
  const p = await client.chat.completions.parse({ model: 'gpt-4o', messages: [] });
  const s = client.chat.completions.stream({ model: 'gpt-4o', messages: [] });
  const r = client.responses.stream({ model: 'gpt-4o', input: q });
  client?.chat?.completions.create({ model: 'x', messages: [] }).then((x) => x);
  const st = await client.chat.completions.create({ model: 'x', messages: [], stream: true });
  return [a, b, e, p, s, r, st];
}
