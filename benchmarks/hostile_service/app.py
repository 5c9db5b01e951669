from pym_lambda import create_app

app = create_app(__file__)
