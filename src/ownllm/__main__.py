from ownllm.cli import main

if __name__ == "__main__":  # guarded: parser and job worker processes re-import the main module
    main()
