import click
ctx.invoke(cmd)
