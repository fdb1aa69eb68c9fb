// No SDK import at all: OpenAI's chat.completions shape still counts (medium).
export async function compat(client) {
  return client.chat.completions.create({ model: 'llama', messages: [] });
}
