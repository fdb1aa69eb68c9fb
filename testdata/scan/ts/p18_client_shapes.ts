// No SDK import: the client comes from elsewhere (a base class, a parameter).
export class Model {
  declare private _client: any;
  declare private llmClient: any;
  async go(http: any) {
    await this._client.responses.create({ model: 'm', input: 'i' });
    await this.llmClient.beta.messages.create({ model: 'c', max_tokens: 1, messages: [] });
    // not a client: an HTTP library's responses, OpenAI Assistants' thread messages
    await http.responses.create({});
    await this._client.beta.threads.messages.create('t', { role: 'user', content: 'x' });
  }
}
