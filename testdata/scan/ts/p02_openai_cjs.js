const OpenAI = require('openai');
const { AzureOpenAI: Az } = require('openai');
const Default = require('openai').default;

const a = new OpenAI();
const az = new Az({ endpoint: 'https://x', apiVersion: '2024-10-21' });
const d = new Default();

async function main() {
  await a.chat.completions.create({ model: 'm', messages: [] });
  await az.chat.completions.create({ model: 'm', messages: [] });
  await d.completions.create({ model: 'm', prompt: 'p' });
  // factory call without new
  return OpenAI().responses.create({ model: 'm', input: 'i' });
}
module.exports = { main };
