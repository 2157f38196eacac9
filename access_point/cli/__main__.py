from access_point.cli import main

main()
