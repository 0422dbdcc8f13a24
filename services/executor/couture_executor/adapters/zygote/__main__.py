from couture_executor.adapters.zygote.server import main

main()
