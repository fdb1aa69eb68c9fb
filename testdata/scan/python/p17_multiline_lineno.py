# one
# two


# five
client.chat.completions.create(
    model="x",
    messages=[],
    temperature=0,
    n=1,
)
