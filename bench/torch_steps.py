# The PyTorch peer as a lockstep subject (bench/_lockstep.ts): builds the model and `step()` exactly as the peer
# script does, by running its top-level statements up to its first top-level `for` loop (where its own warm-up and
# timing begin), then times one step() per `step` line read.
#   python3 torch_steps.py <path to bench_torch.py> <gan|resnet> <threads>
import ast
import json
import sys
import time

path, model, threads = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path) as f:
    tree = ast.parse(f.read(), path)
setup = []
for node in tree.body:
    if isinstance(node, ast.For):
        break
    setup.append(node)
sys.argv = [path, model, threads, '1']  # as if run as `bench_torch.py <model> <threads> 1`
scope = {'__name__': '__peer__', '__file__': path}
exec(compile(ast.Module(body=setup, type_ignores=[]), path, 'exec'), scope)
step = scope.get('step')
if not callable(step):
    sys.exit(f'{path} defines no step() before its first top-level loop')
torch = scope['torch']
print('READY ' + json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    command = line.strip()
    if command == 'quit':
        break
    if command != 'step':
        continue
    t = time.perf_counter()
    step()  # ends in .item() of its losses: the work is done when it returns
    print(f'STEP {(time.perf_counter() - t) * 1e3:.3f}', flush=True)
