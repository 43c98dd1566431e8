from ownllm.cli import app

if __name__ == "__main__":  # guarded: parser worker processes re-import the main module
    app()
