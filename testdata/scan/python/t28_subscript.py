clients['oa'].chat.completions.create()
