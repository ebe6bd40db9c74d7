"""`ordo up`'s demo: it acts on the running stack only through the API (and the simulators'
own APIs, as the warehouse would), and decides it is done from what the API answers."""
