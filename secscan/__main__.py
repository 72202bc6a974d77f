from secscan.cli import main

if __name__ == "__main__":  # a spawned worker (collector import) imports this module again
    main()
