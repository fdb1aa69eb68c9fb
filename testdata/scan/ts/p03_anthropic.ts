import Anthropic from '@anthropic-ai/sdk';
import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import { AnthropicVertex as Vertex } from '@anthropic-ai/vertex-sdk';

export class Bot {
  private client = new Anthropic();
  private bedrock: AnthropicBedrock;

  constructor() {
    this.bedrock = new AnthropicBedrock();
  }

  async run() {
    const m = await this.client.messages.create({ model: 'claude', max_tokens: 10, messages: [] });
    const s = this.client.messages.stream({ model: 'claude', max_tokens: 10, messages: [] });
    const b = await this.bedrock.messages.create({ model: 'claude', max_tokens: 10, messages: [] });
    const v = await new Vertex().messages.create({ model: 'claude', max_tokens: 10, messages: [] });
    return [m, s, b, v];
  }
}
