# The same from the command line (gan-lessons is python -m gan_lessons)
gan-lessons train --model dcgan --data ./my_images --steps 40 \
    --out runs/mine_cli.pt
gan-lessons train --model dcgan --data ./my_images --steps 60 \
    --out runs/mine_cli.pt --resume
gan-lessons sample --checkpoint runs/mine_cli.pt --num 64 --out samples_cli.png
gan-lessons evaluate runs/mine_cli.pt --data ./my_images --num 100
