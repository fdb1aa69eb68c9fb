import OpenAI from 'openai';
const client = new OpenAI({ baseURL: process.env.ASSAY_GATEWAY_URL });
export const r = await client.chat.completions.create(
  { model: 'm', messages: [] },
  { headers: { 'X-Assay-Callsite': 'i02_header.ts:3' } },
);
