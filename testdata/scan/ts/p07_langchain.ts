import { ChatOpenAI } from '@langchain/openai';
import { ChatAnthropic as Claude } from '@langchain/anthropic';
import { initChatModel } from 'langchain/chat_models/universal';
import { ChatPromptTemplate } from '@langchain/core/prompts';

const llm = new ChatOpenAI({ model: 'gpt-4o' });
const claude = new Claude({ model: 'claude' });

export async function chain() {
  await llm.invoke('hi');
  for await (const c of await claude.stream('hi')) console.log(c);
  await llm.batch(['a', 'b']);
  const m = await initChatModel('gpt-4o');
  await m.invoke('x');
  const prompt = ChatPromptTemplate.fromMessages([['human', '{q}']]);
  return prompt.format({ q: 'x' });
}
