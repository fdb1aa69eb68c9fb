import { Agent, run, Runner } from '@openai/agents';

const agent = new Agent({ name: 'Assistant', instructions: 'help' });

export async function go() {
  const r = await run(agent, 'hi');
  const runner = new Runner();
  return [r, await runner.run(agent, 'again')];
}
