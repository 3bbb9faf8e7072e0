"""`python -m automl_resmlp.space` prints the path of the bundled search space."""

from automl_resmlp import SPACE

if __name__ == "__main__":
    print(SPACE)
