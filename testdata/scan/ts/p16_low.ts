export async function helpers(svc: any) {
  await callLLM('hi');
  await svc.queryModel('hi');
  await call_llm('hi');
  function callLLM(x: string) { return x; }
  function call_llm(x: string) { return x; }
}
