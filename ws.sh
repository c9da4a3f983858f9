cd /tmp/dev
export PYTHONPATH=/tmp/dev OMP_WAIT_POLICY=PASSIVE
nice -n 10 /work/main/.venv/bin/python benchmarks/weight_sharing.py --study demo --runs-dir /work/main/benchmarks/runs/headline --supernet-epochs 4 --finetune-epochs 0.125 --threads 1 --out /tmp/dev/ws_demo.json
