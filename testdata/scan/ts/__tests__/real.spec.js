const Anthropic = require('@anthropic-ai/sdk');
const fakeClaude = { messages: { create: () => ({}) } };

test('calls the live API', async () => {
  const c = new Anthropic();
  await c.messages.create({ model: 'c', max_tokens: 1, messages: [] });
  await fakeClaude.messages.create({});
});
