db.users.create(name=1)
session.query.create()
