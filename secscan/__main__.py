from secscan.cli import main

if __name__ == "__main__":  # imported rather than run (a tool, a spawned process), it does nothing
    main()
