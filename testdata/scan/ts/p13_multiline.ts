import OpenAI from 'openai';

const client = new OpenAI();

export const answer = await client.chat
  .completions
  .create({
    model: 'gpt-4o',
    messages: [],
  });
