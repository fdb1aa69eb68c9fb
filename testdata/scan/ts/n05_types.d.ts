declare function f(): ReturnType<typeof client.chat.completions.create>;
