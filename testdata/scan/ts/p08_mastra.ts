import { Agent } from '@mastra/core/agent';
import { Mastra } from '@mastra/core';

const agent = new Agent({ name: 'a', instructions: 'x', model: 'openai/gpt-4o' });
const mastra = new Mastra({ agents: { agent } });

export async function go() {
  await agent.generate('hi');
  await agent.stream('hi');
  return mastra.getAgent('agent').generate('hi');
}
