import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

function makeClient() {
  return new OpenAI({ baseURL: process.env.URL });
}
const makeClaude = () => new Anthropic();

export class Svc {
  getClient() {
    return new OpenAI();
  }
  async go() {
    await makeClient().chat.completions.create({ model: 'm', messages: [] });
    const c = makeClaude();
    await c.messages.create({ model: 'c', max_tokens: 1, messages: [] });
    return this.getClient().responses.create({ model: 'm', input: 'i' });
  }
}
