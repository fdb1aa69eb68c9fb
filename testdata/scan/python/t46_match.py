match x:
    case 1:
        client.chat.completions.create()
