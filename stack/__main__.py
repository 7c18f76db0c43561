"""``python -m stack`` runs the stack CLI."""
from stack.cli import main

if __name__ == "__main__":
    main()
