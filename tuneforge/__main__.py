from tuneforge.api.cli import main

main()
