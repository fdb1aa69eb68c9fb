import { generateText, streamText as st, generateObject, streamObject, embed } from 'ai';
import * as ai from 'ai';
import { openai } from '@ai-sdk/openai';
import { z } from 'zod';

export async function all() {
  const a = await generateText({ model: openai('gpt-4o'), prompt: 'hi' });
  const b = st({ model: openai('gpt-4o'), prompt: 'hi' });
  const c = await generateObject({ model: openai('gpt-4o'), schema: z.object({}), prompt: 'hi' });
  const d = streamObject({ model: openai('gpt-4o'), schema: z.object({}), prompt: 'hi' });
  const e = await embed({ model: openai.embedding('text-embedding-3-small'), value: 'hi' });
  const f = await ai.generateText({ model: openai('gpt-4o'), prompt: 'hi' });
  return [a, b, c, d, e, f];
}
