"""Forecasting tomorrow's minimum temperature from the last 30 days with an LSTM (the course's weather example).

    python examples/timeseries_lstm.py --data-dir ../shared/data      # about 20 s; beats both baselines

The data: daily minimum temperatures in Melbourne, 1981-1990 (timeseries/daily-min-temperatures.csv).
The last year (1990) is held out; the model trains on 1981-1989, and one mean and standard
deviation, fitted on those training years only, standardise the whole series. Each sample is a
30-day window (30, 1) -> the next day's value.
The model: LSTM(1 -> 32) (the course's "memory dimension equal to 32"), the last step's h ->
Linear(32 -> 1); MSE, Adam with a cosine-decayed learning rate.
Baselines on the same held-out days: the naive forecast "same as yesterday", and a linear model on
the same 30-day window (least squares on the training windows). All RMSEs are in degrees Celsius.
Writes to --out: `metrics.json` and `forecast.png` (the held-out year: truth, LSTM and linear forecasts).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from common import progress, pyplot, save_figure, say  # noqa: E402
from nn.data import DataLoader, TimeSeriesCSV  # noqa: E402
from nn.training import Standardizer  # noqa: E402


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="folder holding timeseries/ (else $AUTOGRAD_DATA)")
    p.add_argument("--window", type=int, default=30, help="days of history per sample")
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--test-days", type=int, default=365, help="the last N days are held out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/timeseries_lstm")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


class Forecaster(nn.Module):
    """LSTM over the window, then a linear read-out of the last hidden state: (B, W, 1) -> (B, 1)."""

    def __init__(self, hidden=32):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def csv_path(data_dir):
    """The CSV file under data_dir (or $AUTOGRAD_DATA)."""
    root = data_dir or os.environ.get("AUTOGRAD_DATA")
    if not root:
        raise SystemExit("timeseries_lstm: pass --data-dir ../shared/data or set $AUTOGRAD_DATA")
    path = os.path.join(root, "timeseries", "daily-min-temperatures.csv")
    if not os.path.exists(path):
        raise SystemExit(f"timeseries_lstm: no {path}")
    return path


def rmse(pred, truth):
    return float(np.sqrt(np.mean((np.asarray(pred, np.float64) - np.asarray(truth, np.float64)) ** 2)))


def main(argv=None):
    """Train, compare with the baselines on the held-out year; return the metrics (RMSEs in degrees C)."""
    args = parse_args(argv)
    ag.manual_seed(args.seed)
    path = csv_path(args.data_dir)
    raw = TimeSeriesCSV(path, "Temp", args.window)
    n = len(raw.values)
    split = n - args.test_days
    scaler = Standardizer().fit(raw.values[:split, 0])  # the training years' statistics only
    train = TimeSeriesCSV(path, "Temp", args.window, stop=split, transform=scaler.transform)
    # the held-out windows start 30 days before the test year, so every test day gets a forecast
    test = TimeSeriesCSV(path, "Temp", args.window, start=split - args.window, transform=scaler.transform)
    mean, std = float(scaler.mean.ravel()[0]), float(scaler.std.ravel()[0])
    to_celsius = lambda v: np.asarray(v).ravel() * std + mean  # noqa: E731

    xtr, ytr = train._get_batch(np.arange(len(train)))
    xte, yte = test._get_batch(np.arange(len(test)))
    truth = to_celsius(yte.numpy())

    # baselines
    naive = to_celsius(xte.numpy()[:, -1, 0])
    A = np.c_[xtr.numpy()[:, :, 0], np.ones(len(train))].astype(np.float64)
    coef, *_ = np.linalg.lstsq(A, ytr.numpy()[:, 0].astype(np.float64), rcond=None)
    linear = to_celsius(np.c_[xte.numpy()[:, :, 0], np.ones(len(test))] @ coef)

    model = Forecaster(args.hidden)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True,
                        generator=ag.Generator().manual_seed(args.seed))
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * len(loader))
    history = []
    for epoch in progress(range(1, args.epochs + 1), "epochs", args.quiet):
        total = 0.0
        for xb, yb in loader:
            loss = F.mse_loss(model(xb), yb[:, 0])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(yb)
        history.append(total / len(train))
        if epoch % 5 == 0 or epoch == args.epochs:
            say(f"epoch {epoch:3d}  train MSE (standardised) {history[-1]:.4f}")
    model.eval()
    with ag.no_grad():
        lstm = to_celsius(model(xte).numpy())

    metrics = {"rmse_lstm": rmse(lstm, truth), "rmse_naive": rmse(naive, truth), "rmse_linear": rmse(linear, truth),
               "test_days": len(truth), "train_windows": len(train), "train_mse": history}
    print(f"held-out year, {len(truth)} days -- RMSE (degrees C): LSTM {metrics['rmse_lstm']:.3f}  "
          f"linear on the window {metrics['rmse_linear']:.3f}  naive (same as yesterday) {metrics['rmse_naive']:.3f}")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    metrics["figures"] = [f for f in [plot_forecast(truth, lstm, linear, metrics, test.index[args.window:],
                                                    os.path.join(args.out, "forecast.png"))] if f]
    return metrics


def plot_forecast(truth, lstm, linear, metrics, dates, path):
    """The held-out year: truth, the LSTM's and the linear model's forecasts."""
    plt = pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(10, 3.6))
    days = np.arange(len(truth))
    ax.plot(days, truth, color="black", lw=1, label="truth")
    ax.plot(days, lstm, lw=1, label=f"LSTM (RMSE {metrics['rmse_lstm']:.2f})")
    ax.plot(days, linear, lw=1, alpha=0.7, label=f"linear (RMSE {metrics['rmse_linear']:.2f})")
    ticks = days[::61]
    ax.set_xticks(ticks, [dates[i] for i in ticks])
    ax.set(ylabel="daily minimum (°C)", title=f"next-day forecast on the held-out year "
                                             f"(naive RMSE {metrics['rmse_naive']:.2f})")
    ax.legend(loc="upper center", ncol=3, fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(plt, fig, path)


if __name__ == "__main__":
    main()
