import { Command } from 'commander';
// invoke/stream/generate/run on things that are not LLM clients
export async function generic(ctx: any, lambda: any, agent: any, file: any) {
  await ctx.invoke('cmd');
  await lambda.invoke({ FunctionName: 'f' });
  await agent.generate('x');
  file.stream();
  new Command().parse();
  await run();
}
async function run() {}
