import OpenAI from 'openai';
import type { Anthropic } from '@anthropic-ai/sdk';

// The client is a parameter: the chain is traced no further than the file's imports.
export async function withClient(client: OpenAI, claude: Anthropic, deps: { llm: any }) {
  await client.chat.completions.create({ model: 'm', messages: [] });
  await deps.llm.responses.create({ model: 'm', input: 'i' });
  // type-only import: messages.create is not claimed for Anthropic
  await claude.messages.create({ model: 'c', max_tokens: 1, messages: [] });
}
